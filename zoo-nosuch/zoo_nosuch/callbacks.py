"""A callback is any object with Keras' on_* hooks (zoo.Callback is a convenient base class)."""

import zoo


class LossPrinter(zoo.Callback):
    def __init__(self, every: int = 1) -> None:
        super().__init__()
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every == 0:
            print(f"epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}")

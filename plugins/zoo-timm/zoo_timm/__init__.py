"""zoo-timm: timm's image models as zoo applications, including the Keras applications torchvision lacks
(Xception, InceptionResNetV2, MobileNet, NASNetLarge).

``zoo.load("Xception")`` or ``zoo.load("timm:resnet50", include_top=False, pooling="avg")``. Importing this
package imports neither timm nor torch.
"""

__version__ = "0.1.0"

"""zoo-videoqa: video question answering by transfer learning, as a zoo plugin."""

"""keras.applications as zoo applications: ``zoo.load("keras:NASNetMobile")``; see the README's Keras section."""

"""Engine tests: the steps, plans and clients against real parts (moto's server, GNOME Keyring,
Xvfb, the CircleCI stand-in), in-process, with no Textual."""

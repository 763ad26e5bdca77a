"""The console feed: the engine's published view, its wire codec, the link a console
uses, and the commands it sends."""

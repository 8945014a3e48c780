"""teachkit: build static web apps that teach an image classifier in the visitor's browser."""

__version__ = "0.1.0"

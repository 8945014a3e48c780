"""The one error hierarchy of teachkit; the CLI turns these into messages and exit codes."""


class TeachkitError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""

    exit_code = 1


class ConfigError(TeachkitError):
    """The project file is malformed; the message lists every problem, one per line."""


class ModelError(TeachkitError):
    """A base model cannot be made: missing weights, corrupt file, unknown layer, …"""


class ConversionError(TeachkitError):
    """The TF.js conversion failed or its quantization does not keep the model faithful."""


class BuildError(TeachkitError):
    """Anything else that stops a build: output location, bundler, missing tools."""


class TrainedFileError(TeachkitError):
    """A project file or model download saved by the page cannot be used: damaged, foreign, or
    made with another base model."""


class DeployError(TeachkitError):
    """The site cannot be committed or pushed: no git, no repository, no remote, the target branch in
    use or diverged from its remote, a failed push."""

from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """Installed only for its `run_simulator` command; the simulator imports no app."""

    name = "simulator"

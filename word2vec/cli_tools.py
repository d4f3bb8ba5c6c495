"""CLI commands that work on corpora and model files: vocab, export, info, …"""

COMMANDS = []

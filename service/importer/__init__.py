"""``stratus import``: history from an ``mlruns/`` folder, an MLflow database or an MLflow
server, into the local store or a Stratus server, with ids and timestamps kept.

``sources`` read, ``targets`` write, ``runner`` moves records between them and
``journal`` makes an interrupted import resumable; ``verify`` compares both sides.
"""

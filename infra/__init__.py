"""The Pulumi program that runs Stratus on Google Cloud (Cloud Run, Cloud SQL, GCS).

``__main__.py`` is the entry point Pulumi runs; ``config.py`` reads the stack config once;
``stack.py`` wires the components in ``components/`` together. See docs/deploy.md.
"""

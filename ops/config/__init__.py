"""The bottom floor: configuration from the environment (settings, DSNs) and logging set-up.

Imported by api/, pipeline/ and the entry points in ops/; imports nothing of ours outside this package.
"""

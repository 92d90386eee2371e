"""Core of the DPP service: plain Python, no HTTP and no azure.functions imports."""

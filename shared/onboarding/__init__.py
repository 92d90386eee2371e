"""Onboarding: bulk import (file formats, attribute mappings, the import run), JSON export, and
the jobs that track them."""

"""HTTP adapters: one Blueprint per area, one function per EN 18222 operation."""

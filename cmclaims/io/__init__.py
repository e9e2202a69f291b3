"""Files in and out: reading exports and side files, writing outputs atomically."""

"""The download cache: verified, resumable, mirrored, locked and offline-capable."""

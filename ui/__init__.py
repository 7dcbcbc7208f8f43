"""The staff chat UI, mounted inside the HTTP app."""

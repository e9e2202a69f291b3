"""The nightly job: read, normalise, run the rules in order, decide each line's fate, write."""

"""Unit limits as an algorithm: grouping lines by member and period, and the sequential resolver."""

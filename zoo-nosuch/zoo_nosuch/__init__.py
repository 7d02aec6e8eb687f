"""The zoo plugin nosuch."""

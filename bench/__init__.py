"""Load scenarios that start what they need on free ports and print their figures."""

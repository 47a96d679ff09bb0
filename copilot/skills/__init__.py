"""The skills: each turns a deal (and its inputs) into a typed, cited result."""

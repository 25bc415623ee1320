"""The YAML defaults of every zoo entry (installed as seqzoo.zoo_configs)."""

"""Storage: the engine, the models and one repository module per aggregate."""

"""qkdplan: mission planning for satellite-to-ground quantum key distribution.

The pipeline (see docs/architecture.md): element sets -> passes -> link budget -> key per pass ->
trusted-relay schedule -> reports. Each stage is a plain function of the previous stage's output.
"""

__version__ = "0.1.0"

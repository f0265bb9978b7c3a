"""The policy set: Rego rule files (package data), their METADATA catalog and their test cases."""

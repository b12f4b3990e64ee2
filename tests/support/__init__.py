"""What tests share: helpers, fakes and fixtures (loaded by tests/conftest.py).

Test modules import from here and never from one another, so that moving or deleting a
test never breaks another one, and a helper has one home.
"""

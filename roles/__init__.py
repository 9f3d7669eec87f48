"""pyinfra roles: one package per role, each with a pure plan and a thin @deploy."""

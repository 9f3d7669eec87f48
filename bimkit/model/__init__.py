"""The estate data model: schema, address plan, usernames, rules, loading."""

"""The semantic cache: exact (Valkey) then semantic (pgvector) lookups within one
organisation and scope, false-hit guards, and the entries' store, eviction and invalidation."""

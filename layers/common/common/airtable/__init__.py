"""Everything that talks to Airtable: connections, the shared rate limiter, the client, the cache."""

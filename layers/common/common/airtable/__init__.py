"""Everything that talks to Airtable: connections, the shared limiter, the client, the cache."""

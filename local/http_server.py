"""The threaded HTTP server the local router and the Airtable emulator both listen with."""

from http.server import ThreadingHTTPServer


class LocalHTTPServer(ThreadingHTTPServer):
    """A thread per connection, and a listen backlog of a real server: socketserver's default
    of 5 reset connections when a burst of clients (15 at once) connected before any was
    accepted."""

    daemon_threads = True
    request_queue_size = 128

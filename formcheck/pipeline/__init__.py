"""The frame loop that live, upload, the server and evaluation all drive, and the threads around it."""

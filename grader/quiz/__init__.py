"""The quiz engine: question banks, sampling, timed sessions, SQLite history, the terminal UI."""

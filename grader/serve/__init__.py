"""The class exam server (`dlgrade serve`): the quiz engine's banks, sampler and session rules
behind a web server, with the server's clock deciding every deadline."""

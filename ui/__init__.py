"""User interfaces: the command line, the Gradio chat and the HTTP app."""

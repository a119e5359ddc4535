"""Staff screens: sign-in, the staff API and the console."""

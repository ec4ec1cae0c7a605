"""Screen-intent tool router: does this user turn want the assistant to look at the screen now?"""

"""After the meeting: recap of notes into typed items, the updated deal as a diff, versions, follow-up email."""

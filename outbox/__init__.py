"""The transactional outbox: jobs a member waits for (a streak bonus, a referral reward, a message) are recorded in
the same transaction as the effect that calls for them, published to Celery after commit and re-published by a relay
until the job itself marks its row done (docs/adr/0008-outbox.md). A leaf app: it names no other app."""

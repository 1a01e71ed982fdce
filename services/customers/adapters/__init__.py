"""What the customers service talks to outside itself: the notification
sender and its outbox drainer (outbox), the cart-reminder workflows in
Temporal (reminders)."""

"""What payments talks to outside itself: the payment provider (provider.py is
the seam, dev_provider.py the development one) and the expiry sweep's timer."""

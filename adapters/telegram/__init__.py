"""Telegram: python-telegram-bot's Application, by webhook or long polling."""

"""ProjectK's Telegram bot: owners register and steer pairs and receive alerts; secrets never
go through it.

`main` is the composition root (`projectk bot`), `app` the running bot, `handlers` what it does
per update, `addpair` the registration conversation, `alerts` the delivery rhythm, `lock` the one
poller per token, `logs` keeps the token out of logs, `guard` recognises pasted keys.
"""

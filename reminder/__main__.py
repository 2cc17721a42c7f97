from reminder.cli.main import main

main()

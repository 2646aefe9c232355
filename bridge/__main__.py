from bridge.app.cli import main

main()

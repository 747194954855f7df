import SPDYCLI

SPDYCommand.main()

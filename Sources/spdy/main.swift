import SPDYCLI

SPDYCommand.start()

package bulk

// SetSerial makes s apply row by row through the account and group services.
func SetSerial(s *Service, on bool) { s.serial = on }

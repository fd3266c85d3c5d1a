fields `foo-bar`, action, abs(f3-f4), concat(Operation, '-', StatusCode) as opStatus

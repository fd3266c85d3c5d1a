filter msg = "say \"hi\"" or msg = 'it\'s' or path like "C:\\temp"

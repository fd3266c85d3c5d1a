pattern @message | diff previousWeek

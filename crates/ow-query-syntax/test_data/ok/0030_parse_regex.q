parse @message /user=(?<user2>.*?), method:(?<method2>.*?)/ | stats count(*) by user2, method2
